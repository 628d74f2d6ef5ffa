"""Generator for the training pairs in data/: families x parameters x phrasings.

Regenerate the committed files with ``python -m engine.datagen --seed 1337 --out data/``.
"""
