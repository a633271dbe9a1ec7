"""Every default setting, defined once: the API, the CLI and the records read them here."""

MODEL = "vgg19"
WEIGHTS = "auto"
POOLING = "max"
# float32: on AVX2-only CPUs bfloat16 runs ~12x slower; see the README's performance table.
PRECISION = "float32"
# Keras backends that can take the gradient (KERAS_BACKEND); TensorFlow is the default.
BACKENDS = ("tensorflow", "torch", "jax")

# Gatys et al. (2016): content from conv4_2, style from conv1_1 … conv5_1, equal weights.
CONTENT_LAYER = "block4_conv2"
# Content reconstruction shows most when made from a shallower layer (the Keras VGG16 experiment).
RECONSTRUCTION_CONTENT_LAYER = "block2_conv2"
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")

# Weights of the normalised losses (see neuralstyle.losses): they mean the same at every size.
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 100.0
TV_WEIGHT = 1e-5

SIZE = 512  # longest side of the output, px
STYLE_SCALE = 1.0  # style image's longest side relative to the output's
SCALES = 1  # coarse-to-fine: number of sizes, halving down from SIZE
PRESERVE_COLOR = "none"  # or "luminance", "histogram"
ITERATIONS = 300  # optimiser iterations
OPTIMIZER = "lbfgs"  # or "adam"
LEARNING_RATE = 5.0  # Adam's step, in pixel units (0–255 scale)
TRANSFER_INIT = "content"  # Gatys's code starts from the content image
RECONSTRUCTION_INIT = "noise"  # the paper's reconstructions start from white noise
SEED = 0
