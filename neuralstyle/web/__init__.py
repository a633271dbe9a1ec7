"""The local web app (Gradio): `app` builds and launches it, `runs` turns its
widgets into `RunSpec`s and runs them through the pipeline. A face over
`neuralstyle.jobs`, like the command line, and imports nothing from `neuralstyle.cli`."""
