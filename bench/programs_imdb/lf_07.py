# Strategy: acting praise.
def label_function(movie_review):
    text = movie_review.lower()
    praise = text.count('performance') + text.count('beautifully') + text.count('masterpiece')
    return 1 if praise >= 2 else -1
