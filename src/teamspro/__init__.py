"""TeamsPro: GPT Pro and Image Pro for Microsoft Teams."""
