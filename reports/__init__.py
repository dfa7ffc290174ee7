"""Reports: the programme office's read models across the domains (the funnel, turnaround, figures by cluster
and park, finance by product)."""
