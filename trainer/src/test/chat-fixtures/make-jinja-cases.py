# Makes jinja-cases.json: templates exercising the Jinja features chat templates use, with what
# Python's jinja2 renders, in the environment transformers' apply_chat_template uses (sandboxed,
# trim_blocks, lstrip_blocks, loop controls, its tojson and raise_exception). JinjaTemplateTest
# compares prefstream's engine with them. Run once with python3 and jinja2 3.1:
#   python3 make-jinja-cases.py
import json
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols
def raise_exception(m): raise Exception(m)
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters['tojson']=tojson; env.globals['raise_exception']=raise_exception
cases = [
 ("{% set ns = namespace(n=0) %}{% for m in xs %}{% set ns.n = ns.n + m %}{% endfor %}{{ ns.n }}", {"xs":[1,2,3]}),
 ("{% set y = 1 %}{% for x in [1,2] %}{% set y = y + x %}{{ y }},{% endfor %}{{ y }}", {}),
 ("{% for x in 'abc' %}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.previtem }}{{ loop.revindex }}|{% endfor %}", {}),
 ("{{ '  a b  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\n a'.lstrip('\\n') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'abc'[::-1] }}|{{ 'hello'[1:3] }}|{{ 'Hi'.startswith(('H','x')) }}|{{ 'a</think>b'.split('</think>')[-1] }}", {}),
 ("{{ [3,1,2]|length }} {{ 'x'|default('y') }} {{ nope|default('d') }} {{ {'a':[1,'é',none,true,1.5]}|tojson }} {{ [1,2]|join('-') }} {{ 'Ab'|upper }} {{ none }} {{ 1/2 }} {{ 7//2 }} {{ -7 % 3 }} {{ 2**10 }} {{ 1.5 }} {{ [1,'a',none] }} {{ {'k': 'v'} }} {{ 3.0 }} {{ 10/5 }}", {}),
 ("{{ {'a':1,'b':[1,2]}|tojson(indent=2) }}", {}),
 ("{{ x is defined }} {{ none is none }} {{ 'a' is string }} {{ 3 is odd }} {{ false is false }} {{ 0 is false }} {{ x is not defined }} {{ [] is iterable }} {{ {} is mapping }}", {}),
 ("{{ 'y' if a else 'n' }}{{ 'z' if not a }}|{{ 'b' in 'abc' }}{{ 2 not in [1,2] }}{{ a or 'fallback' }}{{ a and 'never' }}", {"a": False}),
 ("{% for k, v in d.items() %}{{k}}={{v}};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"x": 1, "y": None}}),
 ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(name='C') }}", {}),
 ("{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
 ("{% for m in ms %}{{ m['content'] is string }}{{ m.tool_calls is defined }}{% if m.tool_calls %}T{% endif %}{% endfor %}", {"ms":[{"role":"user","content":"hi"}]}),
 ("a\n  {% if true %}\n  b\n  {% endif %}\nc\n{%- if true -%}\n  d  \n{%- endif %}\n  {%+ if true %}e{% endif %}\n{# comment #}\nf {{- ' g ' -}} h\n", {}),
 ("{% for x in [1,2,3] if x != 2 %}{{ loop.index }}:{{ x }} {% else %}empty{% endfor %}{% for x in [] %}x{% else %}none{% endfor %}", {}),
 ("{{ messages[1:] | length }} {{ messages[-1]['role'] }} {{ (messages|length - 1) }} {{ messages|map(attribute='role')|join(',') }} {{ messages|selectattr('role','equalto','user')|list|length }}", {"messages":[{"role":"system"},{"role":"user"},{"role":"user"}]}),
 ("{% set content %}block {{ 1 + 1 }}{% endset %}[{{ content }}] {{ 'a' ~ 1 ~ none }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 'x'|trim }} {{ '  x  '|trim }} {{ 'hello world'|title }} {{ 'HELLO'|capitalize }} {{ 'a\\nb'|indent(2) }}", {}),
 ("{%- if messages[0]['role'] == 'system' -%}{%- set system_message = messages[0]['content'] | trim + '\\n\\n' -%}{%- set loop_messages = messages[1:] -%}{%- else -%}{%- set system_message = '' -%}{%- set loop_messages = messages -%}{%- endif -%}{%- for message in loop_messages -%}{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}{{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}{%- endif -%}{{ message['role'] }}:{{ (system_message if loop.first else '') + message['content'] | trim }}\n{%- endfor -%}", {"messages":[{"role":"system","content":" S "},{"role":"user","content":"u1 "},{"role":"assistant","content":"a1"}]}),
 # templates in the style of popular models' (Gemma, Llama 3.1, Mistral): turn checks, date and tool blocks, system folding
 ("{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}",
  {"bos_token": "<bos>", "add_generation_prompt": True, "messages": [{"role": "user", "content": " Hi \n"}, {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "Grüße 👋"}]}),
 ("""{{- bos_token }}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none %}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
""", {"bos_token": "<|begin_of_text|>", "date_string": "30 Nov 2026", "add_generation_prompt": True,
      "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"city": {"type": "string"}}, "strict": True, "n": None}}],
      "messages": [{"role": "system", "content": "  Be helpful. "}, {"role": "user", "content": "Weather in Zürich?"}]}),
 ("""{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
""", {"bos_token": "<s>", "eos_token": "</s>", "messages": [{"role": "system", "content": "Sys"}, {"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]}),
]
ALTERNATION = next(t for t, _ in cases if "Conversation roles must alternate" in t and "loop_messages" in t)
out=[]
for t,v in cases:
    out.append({"template":t,"variables":v,"expected":env.from_string(t).render(**v)})
try:
    env.from_string(ALTERNATION).render(messages=[{"role":"user","content":"a"},{"role":"user","content":"b"}])
except Exception as e:
    out.append({"template":ALTERNATION,"variables":{"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]},"error":str(e)})
json.dump(out, open('jinja-cases.json','w'), indent=1, ensure_ascii=False)
