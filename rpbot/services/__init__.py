"""Use cases: enrolment, conversations, practitioner tools. Transport-neutral.

Services take neutral :class:`~rpbot.services.incoming.Incoming` inputs, call the pure engine
and the stores, and record everything to send in the outbox in the same transaction.
"""
