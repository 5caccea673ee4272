"""Data in: datasets by built-in name, file, folder or DataFrame, as splits with gold labels.

    readers.py        WRENCH JSON (plain or gzipped), JSONL and CSV files into raw rows
    datasets.py       Dataset and Split, finding built-in tasks, classes and labels, held-out splits,
                      DataFrames (dataset_from_frame)
    tasks.py          task cards: classes and ids, the program argument, the metric (prompts/tasks/)
    images.py         image datasets: class folders, CSVs of image paths, groups
    download/         `datasets --download`: the sources table, the Hub client, formats, checks
"""
