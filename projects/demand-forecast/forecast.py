"""Forecast weekly demand with a moving average of the last eight weeks."""
import argparse

import pandas as pd

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--weeks", type=int, default=4, help="weeks to forecast")
args = parser.parse_args()

history = pd.Series([120, 132, 101, 134, 90, 230, 210, 180, 175, 190], name="demand")
level = history.tail(8).mean()
for week in range(1, args.weeks + 1):
    print(f"week +{week}: {level:.0f}")
