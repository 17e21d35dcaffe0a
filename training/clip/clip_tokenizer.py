"""Writes a CLIP-style byte-level BPE tokenizer (tokenizer.json in the Hugging Face `tokenizers`
format, plus tokenizer_config.json and special_tokens_map.json) with a small learned vocabulary.

Same pipeline as CLIP's: NFC, collapse whitespace, lowercase; CLIP's split regex; byte-level
alphabet so any script and any emoji encode; words end with `</w>`; <|startoftext|> and
<|endoftext|> are the two highest ids, because the text tower pools at argmax(input_ids).
"""
import collections
import json
import os


def bytes_to_unicode():
    """The byte-level alphabet: each byte maps to a printable character (GPT-2/CLIP convention)."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


SPLIT_REGEX = r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"


def learn_merges(corpus_words, byte_map, count):
    words = collections.Counter()
    for word in corpus_words:
        symbols = [byte_map[b] for b in word.encode('utf-8')]
        symbols[-1] = symbols[-1] + '</w>'
        words[tuple(symbols)] += 1
    merges = []
    for _ in range(count):
        pairs = collections.Counter()
        for symbols, n in words.items():
            for a, b in zip(symbols, symbols[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), _n = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append((a, b))
        merged = collections.Counter()
        for symbols, n in words.items():
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            merged[tuple(out)] += n
        words = merged
    return merges


def write_tokenizer(folder, corpus, merge_count=64, vocab_size=None, max_length=77):
    byte_map = bytes_to_unicode()
    alphabet = list(byte_map.values())
    vocab = {}
    for ch in alphabet:
        vocab[ch] = len(vocab)
    for ch in alphabet:
        vocab[ch + '</w>'] = len(vocab)
    words = [w for w in corpus.lower().split() if w.isalpha()]
    merges = learn_merges(words, byte_map, merge_count)
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    if vocab_size is not None:
        # Filler entries so that the special ids land where a full-size vocabulary puts them.
        while len(vocab) < vocab_size - 2:
            vocab[f'<|unused{len(vocab)}|>'] = len(vocab)
    sot, eot = len(vocab), len(vocab) + 1
    vocab['<|startoftext|>'] = sot
    vocab['<|endoftext|>'] = eot

    def special(token_id, content):
        return {'id': token_id, 'content': content, 'single_word': False, 'lstrip': False, 'rstrip': False,
                'normalized': True, 'special': True}

    tokenizer = {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [special(sot, '<|startoftext|>'), special(eot, '<|endoftext|>')],
        'normalizer': {'type': 'Sequence', 'normalizers': [
            {'type': 'NFC'},
            {'type': 'Replace', 'pattern': {'Regex': r'\s+'}, 'content': ' '},
            {'type': 'Lowercase'},
        ]},
        'pre_tokenizer': {'type': 'Sequence', 'pretokenizers': [
            {'type': 'Split', 'pattern': {'Regex': SPLIT_REGEX}, 'behavior': 'Removed', 'invert': True},
            {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False},
        ]},
        'post_processor': {'type': 'RobertaProcessing', 'sep': ['<|endoftext|>', eot], 'cls': ['<|startoftext|>', sot],
                           'trim_offsets': False, 'add_prefix_space': False},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {'type': 'BPE', 'dropout': None, 'unk_token': '<|endoftext|>', 'continuing_subword_prefix': '',
                  'end_of_word_suffix': '</w>', 'fuse_unk': False, 'byte_fallback': False,
                  'vocab': vocab, 'merges': [f'{a} {b}' for a, b in merges]},
    }
    config = {
        'add_prefix_space': False, 'bos_token': '<|startoftext|>', 'clean_up_tokenization_spaces': True,
        'do_lower_case': True, 'eos_token': '<|endoftext|>', 'errors': 'replace', 'model_max_length': max_length,
        'pad_token': '<|endoftext|>', 'tokenizer_class': 'CLIPTokenizer', 'unk_token': '<|endoftext|>',
    }
    specials = {'bos_token': '<|startoftext|>', 'eos_token': '<|endoftext|>', 'pad_token': '<|endoftext|>',
                'unk_token': '<|endoftext|>'}
    with open(os.path.join(folder, 'tokenizer.json'), 'w', encoding='utf-8') as f:
        json.dump(tokenizer, f, ensure_ascii=False, separators=(',', ':'))
    with open(os.path.join(folder, 'tokenizer_config.json'), 'w', encoding='utf-8') as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(folder, 'special_tokens_map.json'), 'w', encoding='utf-8') as f:
        json.dump(specials, f, indent=2)
    return len(vocab)
