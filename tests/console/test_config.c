/* test_config.c - the efichat.cfg parser on good and bad files: values land, problems are reported with their
 * line and never change a setting. */
#include <string.h>
#include <stdio.h>
#include "check.h"
#include "efi/config.h"

static char reports[16][128];
static unsigned nreports;

static void report(void *ctx, unsigned line, const char *msg)
{
    (void)ctx;
    if (nreports < 16)
        snprintf(reports[nreports++], sizeof reports[0], "%u: %s", line, msg);
}

static unsigned parse(const char *text, Settings *s)
{
    nreports = 0;
    settings_default(s);
    return config_parse(text, strlen(text), s, report, NULL);
}

/* A file over CONFIG_MAX_BYTES is one problem, and not one of its (valid) lines is applied. */
static void test_size_cap(void)
{
    static char big[CONFIG_MAX_BYTES + 2];
    memset(big, '#', sizeof big - 1);
    memcpy(big, "temp=0.5\n", 9);
    Settings s, d;
    settings_default(&d);
    nreports = 0;
    settings_default(&s);
    unsigned bad = config_parse(big, CONFIG_MAX_BYTES + 1, &s, report, NULL);
    check_case(bad == 1 && nreports == 1 && strstr(reports[0], "64 KiB") && s.temp == d.temp,
               "config_over_64k_is_refused_whole", "%u problems, temp %d: %s", bad, s.temp, nreports ? reports[0] : "");
    nreports = 0;
    bad = config_parse(big + 1, CONFIG_MAX_BYTES, &s, report, NULL); /* "emp=0.5": one problem, the rest comments */
    check_case(bad == 1 && strstr(reports[0], "64 KiB") == NULL, "config_at_64k_is_parsed", "%u problems: %s", bad,
               nreports ? reports[0] : "");
}

int main(void)
{
    Settings s;
    test_size_cap();
    unsigned bad = parse("\xef\xbb\xbf# efichat settings\r\ntemp = 0.5\r\ntop_k=80\ntop_p=.9\nseed=42\nfont_px=28\n"
                         "user_name=First Citizen\nmode=raw\nmax_reply=120\nscreen=1024x768\ninput=serial\nblt=1\n"
                         "avx=0\nkeylog=1\nq8=1\nmemlog=1\n\n; another comment\n", &s);
    check_case(bad == 0 && s.temp == 50 && s.top_k == 80 && s.top_p == 90 && s.seed == 42 && s.font_px == 28 &&
                   !strcmp(s.user_name, "First Citizen") && s.mode == MODE_RAW && s.max_reply == 120 &&
                   s.screen_w == 1024 && s.screen_h == 768 && s.input == 2 && s.blt == 1 && s.avx == 0 &&
                   s.keylog == 1 && s.q8 == 1 && s.memlog == 1,
               "config_good_file", "%u problems, first: %s", bad, nreports ? reports[0] : "");
    bad = parse("temp=2.5\ntop_k=300\ntop_p=0.01\nfont_px=5\nmode=poem\nuser_name=\ncolour=red\njust words\n"
                "temp=0.123\nscreen=big\nseed=-1\nmax_reply=0\nuser_name=A:B\ntop_k=\nmemlog=2\n", &s);
    Settings d;
    settings_default(&d);
    check_case(bad == 15 && nreports == 15, "config_bad_values_counted", "%u problems", bad);
    check_case(!memcmp(&s, &d, sizeof s), "config_bad_values_change_nothing", "settings changed");
    check_case(strstr(reports[0], "1: temp must be") && strstr(reports[0], "'2.5'"), "config_report_names_line",
               "'%s'", reports[0]);
    check_case(strstr(reports[6], "7: unknown key 'colour'") != NULL, "config_report_unknown_key", "'%s'",
               reports[6]);
    check_case(strstr(reports[7], "8: expected key=value") != NULL, "config_report_no_equals", "'%s'", reports[7]);
    check_case(strstr(reports[14], "15: blt, avx, keylog, q8 and memlog must be 0 or 1, got '2'") != NULL,
               "config_report_memlog_not_a_switch", "'%s'", reports[14]);
    bad = parse("cores=1\n", &s);
    check_case(bad == 0 && s.cores == 1, "config_cores_one", "%u %u", bad, s.cores);
    bad = parse("cores=65\n", &s);
    check_case(bad == 1 && s.cores == 0, "config_cores_range", "%u %u", bad, s.cores);
    bad = parse("picker_wait=3\n", &s);
    check_case(bad == 0 && s.picker_wait == 3, "config_picker_wait", "%u %u", bad, s.picker_wait);
    bad = parse("picker_wait=3601\npicker_wait=soon\n", &s);
    check_case(bad == 2 && s.picker_wait == 15, "config_picker_wait_range_default_15", "%u %u", bad, s.picker_wait);
    bad = parse("template=zephyr\n", &s);
    check_case(bad == 0 && s.chat_template == 3, "config_template", "%u %d", bad, s.chat_template);
    bad = parse("template=jinja\ntemplate=auto\n", &s);
    check_case(bad == 1 && s.chat_template == -1, "config_template_bad_and_auto", "%u %d", bad, s.chat_template);
    bad = parse("user_name=A\x7f" "B\n", &s);
    check_case(bad == 1 && !strcmp(s.user_name, d.user_name), "config_user_name_rejects_del", "%u '%s'", bad,
               s.user_name);
    bad = parse("temp=0.3\ntemp=oops\n", &s);
    check_case(bad == 1 && s.temp == 30, "config_bad_line_keeps_earlier_value", "%u %u", bad, s.temp);
    bad = parse("", &s);
    check_case(bad == 0 && !memcmp(&s, &d, sizeof s), "config_empty_file", "%u", bad);
    bad = parse("temp=0", &s); /* no final newline */
    check_case(bad == 0 && s.temp == 0, "config_last_line_without_newline", "%u %u", bad, s.temp);
    return check_exit();
}
