# Strategy: the bird's own water-bird features against land-bird features, ignoring the background.
WATER = ("webbed feet", "long neck", "flat wide bill", "floating on water")
LAND = ("perching on a branch", "short pointed beak", "small songbird")


def label_function(x):
    water = sum(x[c] for c in WATER) / len(WATER)
    land = sum(x[c] for c in LAND) / len(LAND)
    if water - land > 0.01:
        return 1  # waterbird
    if land - water > 0.01:
        return 0  # landbird
    return -1
