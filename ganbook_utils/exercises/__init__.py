"""``check_*`` functions that students call on their exercise answers, one module per chapter.

Each check raises ``AssertionError`` with a hint when an answer is wrong and prints a short
confirmation when it is right, so it works the same in a notebook and under nbgrader.
"""
