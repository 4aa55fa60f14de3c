/* What the JSON parser and printer share: numbers read and written in the C
 * locale, whatever locale the program set. */
#ifndef SB_JSONNUM_H
#define SB_JSONNUM_H

#include <locale.h>

locale_t sb__json_c_locale(void);

#endif
