# Strategy: a bill that is flat and wide says waterbird; a short pointed beak says landbird.
def label_function(x):
    gap = x["flat wide bill"] - x["short pointed beak"]
    if gap > 0.015:
        return 1
    if gap < -0.015:
        return 0
    return -1
