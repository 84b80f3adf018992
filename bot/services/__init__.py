"""Domain services: the rules (matching, dispatch, reminders, broadcast, privacy, stats).

No platform code here; services talk to people through bot.core.messenger.Messenger.
"""
