"""What each layer kind needs, one file per kind: channels from the
trace, masks, parameter masks, slices and export."""
