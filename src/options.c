/* Versioned options structs: options.h. */
#include <string.h>

#include "error.h"
#include "options.h"

int sb__options_init(const char *fn, void *opts, const void *defaults, unsigned version,
                     const size_t *size_of, unsigned versions)
{
    if (!opts)
        return sb__error(SB_ERR_INVALID, "%s: opts is NULL", fn);
    if (version == 0 || version >= versions)
        return sb__error(SB_ERR_INVALID, "%s: unknown version %u (this library knows 1 to %u)",
                         fn, version, versions - 1);
    memcpy(opts, defaults, size_of[version]);
    return 0;
}
