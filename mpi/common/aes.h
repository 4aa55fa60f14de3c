/* AES-128 encryption (FIPS-197), enough for the acquisition job to store real
 * ciphertexts and for the preprocessing job to label traces by S-box output.
 * Table-free except the S-box: speed does not matter here, clarity does. */
#ifndef SB_PROG_AES_H
#define SB_PROG_AES_H

#include <stdint.h>

/* The AES S-box (FIPS-197, figure 7). */
extern const uint8_t sb_aes_sbox[256];

/* Encrypt one 16-byte block under a 16-byte key. in and out may alias. */
void sb_aes128_encrypt(const uint8_t key[16], const uint8_t in[16], uint8_t out[16]);

/* Hamming weight of a byte. */
int sb_hamming_weight8(uint8_t v);

#endif
