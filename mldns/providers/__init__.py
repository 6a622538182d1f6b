"""The only code that calls Google's clients: resources in, API bodies out, and back."""
