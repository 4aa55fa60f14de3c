/* Keeps the helper library non-empty before any helper exists. */
typedef int sb_progcommon_keep;
