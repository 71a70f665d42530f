/* Chat templates: recognition of the ChatML families whatever the whitespace, quoting,
 * whitespace control and comments, the default system message taken from the template,
 * rendering with and without a generation prompt, and clear errors for templates we do not
 * render (other families, text between tags that Jinja would print, broken tags). */
#include "hy_test.h"
#include "hy_tokenizer.h"

#include <stdlib.h>
#include <string.h>

/* SmolLM2-135M-Instruct's tokenizer.chat_template, as stored in its GGUF file. */
static const char *smollm =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ "
    "'<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] "
    "+ "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' "
    "}}{% "
    "endif %}";

/* The same template reflowed with whitespace control, double quotes and escaped newlines. */
static const char *smollm_reflowed =
    "{#- ChatML with a default system prompt -#}\n"
    "{%- for message in messages -%}\n"
    "  {%- if loop.first and messages[0][\"role\"] != \"system\" -%}\n"
    "    {{- \"<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by "
    "Hugging Face<|im_end|>\\n\" -}}\n"
    "  {%- endif -%}\n"
    "  {{- \"<|im_start|>\" + message[\"role\"] + \"\\n\" + message[\"content\"] + \"<|im_end|>\" "
    "+ \"\\n\" -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "  {{- \"<|im_start|>assistant\\n\" -}}\n"
    "{%- endif -%}\n";

static const char *chatml =
    "{% for message in messages %}\n"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% "
    "endfor %}\n"
    "  {% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}\n";

static const char *sys_default = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
                                 "trained by Hugging Face<|im_end|>\n";

static void render_is(const char *tmpl, const hy_chat_msg *m, size_t n, bool gen,
                      const char *want) {
    char *out;
    HY_OK_OR_FAIL(hy_chat_render_template(tmpl, strlen(tmpl), NULL, m, n, gen, &out));
    if (strcmp(out, want)) HY_FAILF("rendered\n%s\n-- expected --\n%s", out, want);
    free(out);
}

static void family_is(const char *tmpl, const char *want) {
    const char *f = NULL;
    HY_OK_OR_FAIL(hy_chat_template_family(tmpl, strlen(tmpl), &f));
    HY_CHECK(f && !strcmp(f, want));
}

static void unrecognised(const char *tmpl) {
    const char *f;
    HY_CHECK_EQ_INT(hy_chat_template_family(tmpl, strlen(tmpl), &f), HY_EUNSUPPORTED);
    HY_CHECK(strstr(hy_last_error(), "not recognised") != NULL);
}

HY_TEST(smollm_adds_default_system_when_first_is_not_system) {
    family_is(smollm, "chatml-default-system");
    hy_chat_msg m[] = {{"user", "Hi"}};
    char want[512];
    snprintf(want, sizeof want, "%s<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
             sys_default);
    render_is(smollm, m, 1, true, want);
    snprintf(want, sizeof want, "%s<|im_start|>user\nHi<|im_end|>\n", sys_default);
    render_is(smollm, m, 1, false, want);
}

HY_TEST(smollm_keeps_an_explicit_system_message) {
    hy_chat_msg m[] = {{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello."}};
    render_is(smollm, m, 3, true,
              "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
              "<|im_start|>assistant\nHello.<|im_end|>\n<|im_start|>assistant\n");
}

HY_TEST(smollm_no_messages) {
    render_is(smollm, NULL, 0, true, "<|im_start|>assistant\n");
    render_is(smollm, NULL, 0, false, "");
}

HY_TEST(reflowed_template_is_the_same_family) {
    family_is(smollm_reflowed, "chatml-default-system");
    hy_chat_msg m[] = {{"user", "x"}};
    char want[512];
    snprintf(want, sizeof want, "%s<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n",
             sys_default);
    render_is(smollm_reflowed, m, 1, true, want);
}

HY_TEST(plain_chatml_has_no_default_system) {
    /* newlines after block tags vanish (trim_blocks), indentation before them too (lstrip) */
    family_is(chatml, "chatml");
    hy_chat_msg m[] = {{"user", "a\tb"}};
    render_is(chatml, m, 1, true, "<|im_start|>user\na\tb<|im_end|>\n<|im_start|>assistant\n");
}

HY_TEST(default_system_with_escaped_quote) {
    const char *t =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\\nYou\\'re \"kind\"<|im_end|>\\n' }}{% endif %}"
        "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    hy_chat_msg m[] = {{"user", "q"}};
    render_is(t, m, 1, false,
              "<|im_start|>system\nYou're \"kind\"<|im_end|>\n<|im_start|>user\nq<|im_end|>\n");
}

HY_TEST(text_jinja_would_print_is_not_ignored) {
    /* a newline after an expression tag is output by Jinja: not the chatml family any more */
    unrecognised("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                 "message['content'] + "
                 "'<|im_end|>' + '\\n'}}\n{% endfor %}{% if add_generation_prompt %}{{ "
                 "'<|im_start|>assistant\\n' }}{% endif %}");
}

HY_TEST(other_families_are_named_errors) {
    unrecognised("{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + "
                 "message['content'] + "
                 "' [/INST]' }}{% endif %}{% endfor %}");
    HY_CHECK(strstr(hy_last_error(), "[INST]") != NULL); /* the message quotes the template */
    unrecognised("");
    unrecognised("{% for message in messages %"); /* unterminated tag */
    unrecognised("{{ 'unterminated }}");
    /* the slot may not swallow code: a system "message" spanning two literals */
    unrecognised(
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\\nA' + 'B<|im_end|>\\n' }}{% endif %}"
        "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}");
}

HY_TEST(bad_messages) {
    char *out;
    hy_chat_msg m[] = {{"user", NULL}};
    HY_CHECK_EQ_INT(hy_chat_render_template(smollm, strlen(smollm), NULL, m, 1, true, &out),
                    HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "message 0 has no content") != NULL);
    HY_CHECK_EQ_INT(hy_chat_render(NULL, m, 1, true, &out), HY_EINVAL);
}

HY_TEST_MAIN()
