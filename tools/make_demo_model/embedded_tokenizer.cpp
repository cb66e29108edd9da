// Embeds demo_spiece.model into the binary with the assembler's .incbin, so the tool works from
// any directory without shipping a data file next to it.
#include "demo_model.h"

#ifndef OMNIHOST_DEMO_SPIECE_PATH
#error "OMNIHOST_DEMO_SPIECE_PATH must name demo_spiece.model"
#endif

#define OMNIHOST_STR2(x) #x
#define OMNIHOST_STR(x) OMNIHOST_STR2(x)

__asm__(".section .rodata\n"
        ".balign 16\n"
        "omnihost_demo_spiece_begin:\n"
        ".incbin \"" OMNIHOST_STR(OMNIHOST_DEMO_SPIECE_PATH) "\"\n"
        "omnihost_demo_spiece_end:\n"
        ".previous\n");

extern "C" const unsigned char omnihost_demo_spiece_begin[];
extern "C" const unsigned char omnihost_demo_spiece_end[];

namespace omnihost::tools {

std::pair<const unsigned char *, size_t> demo_tokenizer_model() {
    return {omnihost_demo_spiece_begin,
            static_cast<size_t>(omnihost_demo_spiece_end - omnihost_demo_spiece_begin)};
}

}  // namespace omnihost::tools
