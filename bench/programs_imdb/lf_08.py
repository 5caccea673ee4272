# Strategy: plot complaints.
def label_function(movie_review):
    text = movie_review.lower()
    hits = sum(p in text for p in ('no plot', 'plot holes', 'makes no sense', 'poorly written', 'bad acting'))
    return 0 if hits else -1
