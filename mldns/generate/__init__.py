"""Stack files from what already exists: a live project, a BIND zone file, octoDNS or Terraform.

Each source is read into mldns resources (`Generated`), and one writer turns those into the stack
file a person would have written. What a source holds that mldns cannot declare is never dropped
silently: it becomes a note, written into the file as a comment and reported by the command.
"""
