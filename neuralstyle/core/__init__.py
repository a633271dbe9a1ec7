"""The algorithm on arrays: settings, images, the VGG model and its weights,
losses, the Evaluator and the optimiser loops, exact tiles, the memory plan,
synthesis and the paper's experiments. Nothing here reads a run's files,
prints, or ends the process; it imports nothing from `neuralstyle.jobs`,
`neuralstyle.cli` or `neuralstyle.web`."""
