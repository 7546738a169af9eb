"""Analytics: metrics is the write side (running totals updated in the same transaction as each event they
count, and their rebuild from the records); report is the read side (dashboard, CSV). Nothing here imports
the apps it counts; core.apps puts each app's stats and its analytics together."""
