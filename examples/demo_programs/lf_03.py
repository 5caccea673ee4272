# Strategy: comments about the music itself are genuine.
MUSIC_WORDS = {"song", "voice", "chorus", "melody", "lyrics", "bridge", "guitar", "drum", "verse", "chills"}


def label_function(comment):
    words = {w.strip("!?.,'") for w in comment.lower().split()}
    if words & MUSIC_WORDS:
        return 0
    return -1
