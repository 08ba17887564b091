"""Admin pages for digital-level assessments and evaluation acceptance (Art 6(1), 9)."""
