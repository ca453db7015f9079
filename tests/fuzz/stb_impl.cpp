// The stb implementations for the fuzz build, compiled here with the sanitizers so that
// memory errors inside the decoders are found too (the library links Debian's libstb).
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#include <stb/stb_image_resize.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
