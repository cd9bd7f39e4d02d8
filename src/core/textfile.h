/* Reading a small text file (config, scenarios) whole, with messages that
 * name the file and the reason. */
#ifndef FLEETSIM_TEXTFILE_H
#define FLEETSIM_TEXTFILE_H

/* Reads path into a malloc'd NUL-terminated string (*out). what names the
 * option in messages ("--config"). Files over 64 MiB or containing NUL bytes
 * are refused. Returns 0, or FS_EIO / FS_ECONFIG with the reason in diag. */
int text_read_file(const char *path, char **out, const char *what);

#endif
