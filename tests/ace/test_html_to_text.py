"""The plain-text part derived from HTML: markup removed in one pass, text and link addresses kept."""

from ace.renderers import html_to_text, strip_markup


def test_tags_comments_and_conditional_comments_go_text_stays():
    source = ('<!--[if mso]><table><tr><td>Outlook only</td></tr></table><![endif]-->'
              '<p title="a > b" data-x=\'1>2\'>Price &lt; 10 &amp; a < b</p><!-- note -->')
    assert strip_markup(source) == "Price &lt; 10 &amp; a < b"
    assert html_to_text(source) == "Price < 10 & a < b\n"


def test_links_keep_their_address_and_blocks_their_lines():
    source = ('<head><title>T</title></head><style>p{color:red}</style><h1>News</h1>'
              '<p>Read <a class="x" href="https://example.org/a?x=1&amp;y=2"><b>the article</b></a>.</p>'
              '<ul><li>one</li><li>two</li></ul>')
    assert html_to_text(source) == "News\nRead the article (https://example.org/a?x=1&y=2).\none\ntwo\n"
