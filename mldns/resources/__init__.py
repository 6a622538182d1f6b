"""The desired-state model: frozen, validated declarations that know nothing of clients."""
