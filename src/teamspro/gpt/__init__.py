"""GPT Pro: organisation chat bots, their model providers, chats and conversations."""
