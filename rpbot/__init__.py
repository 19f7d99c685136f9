"""rpbot: a Telegram bot for restorative parenting programmes."""
