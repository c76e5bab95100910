"""Setting an attribute for the length of a recording and putting it back exactly as it was (an own
attribute, or none so the inherited one shows again): the tracer's and watch()'s patches."""

_MISSING = object()


def patch(owner, name, value, undo_list, keep_if_replaced=False):
    """Sets owner.name = value and appends to `undo_list` the function that puts it back. With
    `keep_if_replaced`, an instance's attribute that something else replaced since is left alone."""
    before = owner.__dict__.get(name, _MISSING)
    setattr(owner, name, value)

    def undo():
        if keep_if_replaced and owner.__dict__.get(name, _MISSING) is not value and not isinstance(owner, type):
            return  # an instance's attribute replaced since: leave it
        if before is _MISSING:
            try:
                delattr(owner, name)
            except AttributeError:  # pragma: no cover
                pass
        else:
            setattr(owner, name, before)
    undo_list.append(undo)
