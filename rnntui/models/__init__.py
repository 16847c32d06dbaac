"""Recurrent networks: the book's equations from scratch, torch.nn twins, and the language-model head."""
