"""The M3 predictor: image tokens + one token per round -> xLSTM -> MOS per aspect and overall."""
