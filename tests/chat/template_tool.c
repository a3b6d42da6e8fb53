/* template_tool - prints the prompt src/chat/template.c makes of a conversation, for tests/chat/test_template.py.
 * usage: template-tool NAME|jinja:FILE < conversation   (lines "system|user|assistant<TAB>content", \n as \\n;
 * a last line "open" appends the reply opening). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/template.h"

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    int t;
    if (!strncmp(argv[1], "jinja:", 6)) {
        FILE *f = fopen(argv[1] + 6, "rb");
        static char src[1 << 16];
        size_t n = f ? fread(src, 1, sizeof src, f) : 0;
        t = template_from_jinja(src, n);
        printf("%s", template_name(t));
        return 0;
    }
    if ((t = template_from_name(argv[1], strlen(argv[1]))) < 0)
        return 2;
    static char out[1 << 16], line[1 << 12];
    size_t len = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        if (!strcmp(line, "open")) {
            if (!template_reply_open(t, out, &len, sizeof out))
                return 3;
            continue;
        }
        char *tab = strchr(line, '\t'), text[1 << 12];
        if (!tab)
            return 2;
        *tab = 0;
        size_t n = 0;
        for (char *p = tab + 1; *p; p++) /* \n in the line stands for a newline */
            text[n++] = (p[0] == '\\' && p[1] == 'n') ? (p++, '\n') : *p;
        int role = !strcmp(line, "system") ? ROLE_SYSTEM : !strcmp(line, "user") ? ROLE_USER : ROLE_ASSISTANT;
        if (!template_turn(t, role, text, n, out, &len, sizeof out))
            return 3;
    }
    fwrite(out, 1, len, stdout);
    printf("|end:%s", template_end_of_turn(t));
    return 0;
}
