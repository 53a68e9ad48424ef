"""Read news-site files and yield normalised records; never touches the store."""
