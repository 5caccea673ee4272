def label_function(comment):
    words = comment.lower().split()
    return 0 if any(w.strip("!.,?") in ("song", "voice", "lyrics", "melody") for w in words) else -1
