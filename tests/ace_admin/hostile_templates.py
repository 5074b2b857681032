"""A hostile corpus: templates an attacker with an editor account might write. Each must render without a
secret, without touching a file and without killing the process (or be refused when saved)."""

F = "channel.batch.gen.gi_frame.f_globals"

HOSTILE = [
    # The payloads of issue 9
    "{{ channel.batch.gen.gi_frame.f_globals.smtplib.sys.modules.django.conf.settings.SECRET_KEY }}",
    "{% block x %}{% for k,v in block.origin.loader.engine.dirs.0.iterdir.gi_frame.f_globals.os.environ.items %}"
    "{{k}}={{v}};{% endfor %}{% endblock %}",
    "{% for p in " + F + ".settings.VAR_DIR.iterdir %}{{ p.read_text }}{{ p.unlink }}{% endfor %}",
    "{{ " + F + ".os.abort }}",
    '{{ "x"|ljust:"300000000" }}',
    '{% include "./a.html" %}',
    # context and template internals
    "{{ template.engine.dirs }}{{ render_context }}{{ dicts }}{{ autoescape }}",
    "{{ block.origin.loader.engine }}{{ block.nodelist }}{{ block.parent }}{% block b %}{{ block.context }}"
    "{{ block.super.__class__ }}{% endblock %}",
    "{% block b %}{{ block.origin.name }}{{ block.token.contents }}{% endblock %}",
    "{% for x in rows %}{{ forloop.parentloop }}{{ forloop.counter.real.bit_length }}{% endfor %}",
    "{% for a in rows %}{% for b in rows %}{{ forloop.parentloop.counter }}{{ forloop.parentloop.gi_frame }}"
    "{% endfor %}{% endfor %}",
    "{{ csrf_token }}{{ request.META }}{{ request.session }}{{ user.password }}{{ perms }}",
    # ACE objects
    "{{ message.get_message_specific_logger.logger.manager.loggerDict }}",
    "{{ message.report_basics }}{{ message.personalize }}{{ message.__class__ }}",
    "{{ message.recipient.__dict__ }}{{ message.recipient.email }}{{ message.recipient.lms_user_id.bit_length }}",
    "{{ message.context.items }}{{ message.options.keys }}{{ message.uuid.bytes }}{{ message.send_uuid }}",
    "{{ channel.deliver }}{{ channel.enabled }}{{ channel.__dict__ }}{{ channel.connection }}",
    "{{ channel.action_links }}{{ channel.tracker_image_sources }}{{ channel.get_action_links.__globals__ }}",
    "{{ channel.channel_type.__class__.__mro__ }}{{ channel.channel_type.value }}",
    "{% load acetags %}{% get_action_links channel as links %}{{ links.0.0.__class__ }}{{ links }}",
    # the tag handed raw objects (its method lookup is cached per function) and a secret as its keyword argument
    "{% load acetags %}{% get_action_links mod as a %}{% get_action_links conf as b %}{% get_action_links path as c %}"
    "{% get_action_links channel omit_unsubscribe_link=conf.SECRET_KEY as d %}{{ a }}{{ b }}{{ c }}{{ d }}",
    # raw objects the platform put in the context
    "{{ path.read_text }}{{ path.unlink }}{{ path.parent.iterdir }}{{ path }}",
    "{{ mod.abort }}{{ mod.environ.PLANTED_ENV_SECRET }}{{ mod.getcwd }}",
    "{{ conf.SECRET_KEY }}{{ conf.EMAIL_HOST_PASSWORD }}{{ conf }}",
    "{{ objects.0.read_text }}{{ objects|first }}{{ objects|pprint }}{{ objects|join:',' }}",
    "{{ nested.deep.path.read_text }}{{ nested|pprint }}{{ nested.deep|stringformat:'r' }}",
    # plain values
    "{{ when.tzinfo.key }}{{ when.tzinfo }}{{ when.astimezone }}{{ when.replace }}{{ when.__class__ }}",
    "{{ when.date.today }}{{ when.now }}{{ when.strftime }}{{ when.fromtimestamp }}",
    "{{ amount.as_tuple }}{{ amount.__class__.__module__ }}{{ amount.sqrt }}{{ amount.exp }}",
    "{{ ident.bytes }}{{ ident.fields }}{{ ident.__init__ }}{{ ident.hex.__class__ }}",
    "{{ lazy.__class__ }}{{ lazy._proxy____args }}{{ lazy.format }}{{ lazy.upper }}",
    "{{ d.items }}{{ d.pop }}{{ d.clear }}{{ d.setdefault }}{{ d.__class__.__subclasses__ }}",
    "{{ name.format }}{{ name.encode }}{{ name.join }}{{ name.__class__.__base__.__subclasses__ }}",
    "{{ name.__len__ }}{{ name.zfill }}{{ name.center }}{{ name.maketrans }}",
    "{{ rows.pop }}{{ rows.clear }}{{ rows.__class__ }}{{ rows.reverse }}",
    # tags that resolve variables
    "{% if " + F + ".os.abort %}x{% endif %}{% if mod.abort or path.unlink %}y{% endif %}",
    "{% with s=" + F + ".settings %}{{ s.SECRET_KEY }}{% include 'ace_admin_tests/show_s.html' %}{% endwith %}",
    "{% with p=path %}{% include 'ace_admin_tests/show_p.html' %}{% endwith %}",
    "{% include 'ace_admin_tests/show_p.html' with p=path %}",
    "{% firstof mod.abort path.unlink conf.SECRET_KEY %}",
    "{% cycle path conf.SECRET_KEY as c %}{{ c }}{% include 'ace_admin_tests/show_c.html' %}",
    "{% regroup objects by read_text as g %}{% for x in g %}{{ x.grouper }}{{ x.list }}{% endfor %}",
    "{% regroup rows by real as g %}{% for x in g %}{{ x.grouper.__class__ }}{% endfor %}",
    "{% widthratio 1 1 300000000 %}",
    "{% widthratio mod.abort path.unlink 10 %}",
    "{% lorem 100000000 w %}",
    "{% lorem big w %}",
    "{% ifchanged path.unlink %}x{% endifchanged %}",
    "{% filter upper %}{{ conf.SECRET_KEY }}{{ mod.environ }}{% endfilter %}",
    "{% now 'Y' as y %}{{ y.__class__ }}",
    "{% templatetag openvariable %} conf.SECRET_KEY {% templatetag closevariable %}",
    "{% include tname %}",
    "{% extends tname %}",
    "{% include conf.TEMPLATE_NAME %}",
    "{% url 'admin:index' as u %}{{ u.__class__ }}",
    "{% debug %}",
    "{% csrf_token %}",
    "{% load log %}{% get_admin_log 10 as entries %}",
    "{% load cache %}",
    "{% load static %}{% get_media_prefix as m %}{% get_static_prefix %}{{ m.__class__ }}",
    "{% load tz %}{% get_current_timezone as tz %}{{ tz.key }}{{ tz.__class__ }}"
    "{% include 'ace_admin_tests/show_tz.html' %}",
    "{% load i18n %}{% get_available_languages as langs %}{{ langs.0.1.__class__ }}{{ langs.0.1._proxy____args }}",
    "{% load i18n %}{% blocktranslate %}{{ channel }}{{ mod }}{{ path }}{{ message }}{% endblocktranslate %}",
    "{% load i18n %}{% blocktranslate with s=conf.SECRET_KEY p=path %}{{ s }}{{ p }}{% endblocktranslate %}",
    "{% load i18n %}{% blocktranslate count n=path.unlink %}one{% plural %}{{ n }}{% endblocktranslate %}",
    "{% load i18n %}{% translate conf.SECRET_KEY %}{% translate path %}",
    "{% load i18n %}{% get_language_info for mod.name as info %}{{ info }}",
    # filters that resolve or traverse values
    "{{ objects|dictsort:'read_text' }}{{ objects|dictsortreversed:'unlink' }}",
    "{{ items|dictsort:'path.read_text' }}{{ items|dictsort:'gi_frame.f_globals' }}",
    "{{ rows|dictsort:'real.bit_length' }}",
    "{{ name|default:conf.SECRET_KEY }}{{ name|add:path }}{{ name|yesno:mod.sep }}",
    "{{ conf|stringformat:'r' }}{{ mod|stringformat:'s' }}{{ path|pprint }}{{ channel|pprint }}",
    "{{ message|pprint }}{{ message|stringformat:'r' }}{{ message.context|pprint }}",
    "{{ name|stringformat:'%0300000000d' }}{{ name|stringformat:'.300000000f' }}",
    "{{ 1|stringformat:'0300000000d' }}",
    "{{ 1|floatformat:'300000000' }}",
    "{{ '1e999999999'|floatformat }}{{ '1e999999999'|floatformat:2 }}",
    "{{ name|rjust:'300000000' }}{{ name|center:'300000000' }}{{ name|wordwrap:'300000000' }}",
    "{{ name|truncatechars:'300000000' }}{{ name|truncatewords:'999999999999' }}",
    "{{ name|ljust:'10000'|make_list|join:name }}",
    "{% with a=name|ljust:'10000' %}{% with b=a|add:a %}{% with c=b|add:b %}{% with d=c|add:c %}{% with e=d|add:d %}"
    "{% with f=e|add:e %}{% with g=f|add:f %}{% with h=g|add:g %}{% with i=h|add:h %}{{ i|add:i|add:i }}"
    "{% endwith %}{% endwith %}{% endwith %}{% endwith %}{% endwith %}{% endwith %}{% endwith %}{% endwith %}"
    "{% endwith %}",
    "{{ rows|slice:':999999999' }}{{ name|date:'rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
    "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr' }}",
    "{{ when|date:conf.SECRET_KEY }}{{ when|timezone:'../../etc/passwd' }}{{ when|timezone:path }}",
    "{{ rows|unordered_list }}{{ nested|unordered_list }}{{ objects|unordered_list }}",
    "{{ objects|length }}{{ objects|random }}{{ objects|last }}{{ objects|json_script:'x' }}",
    "{{ mod|safe }}{{ conf|escape }}{{ path|urlize }}{{ path|linebreaks }}",
    "{{ name|no_such_filter }}",
    "{{ name|localize }}{% load l10n %}{% localize on %}{{ conf }}{% endlocalize %}{{ path|unlocalize }}",
    # nesting and fan-out
    "{% for a in rows %}{% for b in rows %}{% for c in rows %}{% for d in rows %}{% for e in rows %}"
    "{{ a }}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
    "{% include 'ace_admin_tests/fan8.html' %}",
    "{% block a %}{% block b %}{% block c %}{{ block.super }}{{ block.origin }}{% endblock %}{% endblock %}"
    "{% endblock %}",
    '{% extends "ace_admin_tests/base_with_block.html" %}{% block content %}{{ block.super }}'
    "{{ block.super.__class__ }}{{ conf.SECRET_KEY }}{% endblock %}",
    "{% if " + "x" * 50 + " %}" * 300 + "{% endif %}" * 300,
    "{% spaceless %}{{ path }}{% endspaceless %}{% autoescape off %}{{ mod }}{% endautoescape %}",
    "{% verbatim %}{{ conf.SECRET_KEY }}{% endverbatim %}{% comment %}{{ mod.abort }}{% endcomment %}",
    # views handed on: message.context holding objects, items of views, aliases given to file templates
    "{{ message.context.conf.SECRET_KEY }}{{ message.context.mod.environ.PLANTED_ENV_SECRET }}"
    "{{ message.context.path.read_text }}{{ message.context.path.unlink }}{{ message.context.objects.1.abort }}",
    "{% for k, v in message.context.items %}{{ k }}={{ v }}{{ v.read_text }}{{ v.SECRET_KEY }};{% endfor %}",
    "{% for k, v in message.items %}{{ v }}{% endfor %}{% for x in channel.items %}{{ x }}{% endfor %}"
    "{% for x in message.recipient %}{{ x }}{% endfor %}{{ message.recipient.items }}",
    "{% with m=message c=channel %}{% include 'ace_admin_tests/show_m.html' %}{% endwith %}",
    "{% include 'ace_admin_tests/show_m.html' with m=message.context.nested c=message.context.conf %}",
    "{% with s=message.context.conf %}{% include 'ace_admin_tests/show_s.html' %}{% endwith %}"
    "{% firstof message.context.path as c %}{% include 'ace_admin_tests/show_c.html' %}",
    "{% with forloop=conf block=conf message=conf channel=mod %}{{ forloop.SECRET_KEY }}{{ block.SECRET_KEY }}"
    "{{ message.SECRET_KEY }}{{ channel.environ }}{% for x in rows %}{{ forloop.SECRET_KEY }}{% endfor %}{% endwith %}",
    "{{ lazyfile.read_text }}{{ lazyfile }}{{ lazyconf.k.SECRET_KEY }}{{ lazyconf|pprint }}{{ lazyname|upper }}",
    # filter chains, reprs of views and the tags around them
    "{% filter force_escape|upper %}{{ message|pprint }}{{ channel|stringformat:'r' }}{{ conf|pprint }}{% endfilter %}",
    "{{ message|pprint }}{{ message.recipient|stringformat:'r' }}{{ channel.channel_type|pprint }}"
    "{% block q %}{{ block|pprint }}{{ block|stringformat:'r' }}{% endblock %}{{ forloop|pprint }}",
    "{{ message|stringformat:'s' }}{{ message.context|stringformat:'r' }}{{ message.options|pprint }}"
    "{{ message|join:',' }}{{ message|length }}{{ message|make_list }}{{ channel|slice:':3' }}",
    "{% ifchanged conf mod path %}x{% endifchanged %}{% for x in rows %}{% ifchanged %}{{ conf.SECRET_KEY }}"
    "{{ message.context.conf }}{% endifchanged %}{% endfor %}",
    "{% regroup message.context.items by 1 as g %}{% for x in g %}{{ x.grouper.read_text }}{{ x.list|pprint }}"
    "{% endfor %}{% regroup items by path as h %}{% for x in h %}{{ x.grouper }}{{ x.grouper.read_text }}{% endfor %}",
    "{% regroup rows by message.recipient as g %}{% for x in g %}{{ x.grouper|pprint }}{% endfor %}",
    # i18n, l10n, tz, static, templatetag
    "{% load i18n %}{% get_current_language as lang %}{{ lang.upper }}{% language conf.LANGUAGE_CODE %}"
    "{{ conf.SECRET_KEY }}{% endlanguage %}{% language '../../../../etc/passwd' %}x{% endlanguage %}"
    "{% language name %}{% get_current_language as l2 %}{{ l2 }}{% endlanguage %}",
    "{% load i18n %}{% translate 'x' context conf.SECRET_KEY %}{% translate name as t %}{{ t }}"
    "{% blocktranslate with t=message.context.conf u=message.context.path %}{{ t }}{{ u }}{% endblocktranslate %}",
    "{% load tz %}{% localtime on %}{{ when.tzinfo.utcoffset }}{{ when|pprint }}{% endlocaltime %}"
    "{% timezone path %}{{ when }}{% endtimezone %}{% timezone '../../../../etc/localtime' %}{{ when }}"
    "{% endtimezone %}",
    "{% load static %}{% static path %}{% static conf.SECRET_KEY %}{% static '../../../../etc/passwd' as s %}{{ s }}"
    "{% static message.context.path as p %}{{ p }}",
    "{% templatetag openblock %} debug {% templatetag closeblock %}{% templatetag openvariable %}"
    " conf.SECRET_KEY {% templatetag closevariable %}{% templatetag opencomment %}",
    "{% load acetags %}{% get_action_links message %}{% get_action_links conf %}{% get_action_links nested %}"
    "{% get_action_links channel omit_unsubscribe_link=conf as l %}{{ l|pprint }}",
    "{% url 'admin:app_list' conf.SECRET_KEY %}{% url name %}{% url 'admin:index' as u %}{% url message as v %}",
    # formats that read attributes, huge argument lists and numbers
    "{{ when|date:'e O T Z c r U I' }}{{ when|time:'e O T' }}{{ ident|date:'Y' }}{{ message|date:'Y' }}"
    "{{ message.expiration_time|date:'r' }}{{ lazy|date:'Y' }}{{ conf|date:'Y' }}",
    "{% cycle " + " ".join(f"'{number}'" for number in range(5000)) + " as big_cycle %}{{ big_cycle }}",
    "{% widthratio big 1 10000 %}{% widthratio '1e308' '1e-308' 100 %}"
    "{% widthratio 99999999999999999999999999 1 10000 as w %}{{ name|ljust:w }}{{ w|floatformat:w }}",
    "{% for a in rows %}{% for b in rows %}{% for c in rows %}{% for d in rows %}{% for e in rows %}"
    "{{ forloop.parentloop.parentloop.parentloop.parentloop|pprint }}{{ forloop|stringformat:'r' }}"
    "{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
    # look-alike and direction-changing characters in names
    "{{ ｃonf.SECRET_KEY }}{{ conf.ＳECRET_KEY }}{{ mod.environ.PLANTED\u200bENV_SECRET }}",
    "{{ conf.\u202eYEK_TERCES }}{{ \u202econf.SECRET_KEY }}",
    # block.super recursion across DB and file templates, and a DB template extending itself
    '{% extends "ace_admin_tests/includes_body.html" %}{% block content %}{{ block.super }}{{ conf.SECRET_KEY }}'
    "{% endblock %}",
    '{% extends "ace_admin_tests/edx_ace/welcome/email/body.html" %}{% block content %}{{ block.super }}'
    "{% endblock %}",
    '{% include "ace_admin_tests/edx_ace/welcome/email/body.html" %}',
    # a raw object handed to a trusted file template through include's own keyword arguments, and sorting by
    # a method name (dictsort resolves its argument as a lookup path on each item)
    '{% include "ace_admin_tests/show_p.html" with p=path only %}'
    '{% include "ace_admin_tests/show_p.html" with p=objects.0 %}'
    '{% for o in objects|dictsort:"read_text" %}{{ o }}{% endfor %}{{ objects|dictsortreversed:"unlink" }}',
    # a file outside the template folders by an absolute or climbing name (also what a crafted chip from the
    # visual editor would store): the loaders never open it
    '{% include "/etc/passwd" %}{% include "../../../../../../../../../../etc/passwd" %}'
    '{% include "ace_admin_tests/../../../../../../../../../../etc/passwd" %}',
]
