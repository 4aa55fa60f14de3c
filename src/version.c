#include <stdio.h>

#include <hdf5.h>

#include "base.h"

const char *sb_version(void) { return SB_VERSION_STRING; }

const char *sb_hdf5_version(void)
{
    static char text[32];
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(text, sizeof text, "%u.%u.%u", maj, min, rel);
    return text;
}
