"""Model variants: architectures, training and distillation, LiteRT quantization, runners,
safe loading of users' files, and clinical evaluation."""
