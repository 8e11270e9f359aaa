# make layers: the C files of src/ call only files of lower layers (the
# order is written once, in src/gl.h); tools/layers.sh, also run by spec/run.
.PHONY: layers
layers:
	bash tools/layers.sh
