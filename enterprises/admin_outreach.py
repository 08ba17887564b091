"""Admin pages for diagnosis, dossier surveys, matchmaking events and training (Art 4, 5, 6(2), 7)."""
