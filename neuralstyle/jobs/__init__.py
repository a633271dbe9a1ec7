"""A run as files and records: the table of a run's image inputs (`roles`),
`RunSpec`, the pipeline (prepare → execute → write), run records, checkpoints,
the background import of Keras, sweeps and their cluster engine, contact
sheets, galleries and loss plots. Built on `neuralstyle.core`; imports nothing
from the faces (`neuralstyle.cli`, `neuralstyle.web`)."""
