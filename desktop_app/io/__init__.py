"""Files: projects (folder or single zip file), autosave and recovery, PNG/GIF/MP4 export."""
