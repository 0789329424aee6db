"""Studio: a desktop music-generation studio.

Layers (each imports only those below it): ui -> ml -> data -> midi -> music.
"""

__version__ = "0.1.0"
