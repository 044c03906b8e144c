#include <stdio.h>

int main(void) {
    puts("built by one of two parallel builder stages");
    return 0;
}
