"""Members, role invitations and 合理化建议 campaigns: the Telegram-free domain."""
