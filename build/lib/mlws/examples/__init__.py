"""The example workspace's model code: digits classifiers used through `_target_`.

mlws treats this package like any user's package; nothing in mlws core refers to it.
"""
