"""④ ⑤ Understanding: speech recognition, intent matching against the skills' sentences, slots, retries."""
