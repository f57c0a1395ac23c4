"""A correct class-based solution: the tests call its methods, len() and iterate it.

technique: correct
task: stack
expect: pass
"""


class Stack:
    def __init__(self):
        self._items = []

    def push(self, item):
        self._items.append(item)

    def pop(self):
        return self._items.pop()

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(reversed(self._items))
